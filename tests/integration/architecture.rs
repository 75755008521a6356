//! The architecture's invariants, read from the source tree (ARCHITECTURE.md lists them).
//!
//! - The layers: a module uses only modules of its own layer or below. The layers are the
//!   numbered list in `src/lib.rs`'s documentation, each item's modules being its intra-doc links
//!   (`[`net`]`); rustdoc checks that those links name real modules.
//! - `matcher`, `path`, `jit` and `sim` do no I/O and never read the wall clock.
//! - Only `scenario` and `import` implement `Deserialize`; nothing implements `Serialize`.
//! - Only `cli` (and `main.rs`) knows clap and `anyhow`.
//! - No source file is over 1,200 lines, except the few listed below that wait for their split.
//! - No code outside `report` decides by a message's words: the engine's phrases (a route's
//!   `system (…)`, a JIT rule's `JIT-`, a range's `RFC 1918`, `refused`, …) are never tested for.
//!
//! Unit tests are exempt (`#[cfg(test)]` items and the files they declare): a test may build
//! its fixture with a module above the one it tests (a scenario file is the quickest world).
//!
//! Files are read as Rust tokens (`proc-macro2`), so comments, doc text and string literals never
//! count, and paths are found wherever they are written: `use` trees, inline paths such as
//! `crate::net::ProtocolSet::single(..)`, and macro arguments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};

/// The longest a source file may be, in lines.
const MAX_LINES: usize = 1200;

/// Files over [`MAX_LINES`] that wait for their split in phase 2 of issue 23 (other engineers were
/// changing them while phase 1 ran). Remove a file from the list once it is split.
const AWAITING_SPLIT: &[&str] = &[];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One use of a top-level module (`crate::jit`) or of an outside crate, at a line and column.
#[derive(Debug)]
struct Use {
    name: String,
    line: usize,
    column: usize,
}

/// A source file, read.
#[derive(Debug)]
struct Source {
    /// Relative to the package root (`src/jit/engine.rs`).
    path: String,
    /// Its top-level module (`jit`); `None` for `lib.rs` and `main.rs`.
    module: Option<String>,
    /// The top-level modules it names through `crate::`, outside unit tests.
    crate_uses: Vec<Use>,
    /// Every path it names, as `a::b` for the first two segments, outside unit tests.
    paths: Vec<Use>,
    /// The macros it invokes (`println`), outside unit tests.
    macros: Vec<Use>,
    /// The names listed in its `#[derive(..)]` attributes and the traits it implements by hand,
    /// outside unit tests.
    traits: Vec<Use>,
    /// The string literals it tests text against, outside unit tests: the argument of
    /// `.contains("…")`, `.starts_with("…")`, `.ends_with("…")`, `.strip_prefix("…")`,
    /// `.strip_suffix("…")`, `.find("…")`, and the right side of `== "…"` and `!= "…"`.
    words: Vec<Use>,
    /// Files it declares under `#[cfg(test)]` (`mod testing;`).
    test_modules: Vec<PathBuf>,
    /// How many lines it has.
    lines: usize,
}

fn position(span: Span) -> (usize, usize) {
    let start = span.start();
    (start.line, start.column + 1)
}

fn ident(tree: Option<&TokenTree>) -> Option<String> {
    match tree {
        Some(TokenTree::Ident(i)) => Some(i.to_string()),
        _ => None,
    }
}

fn is_punct(tree: Option<&TokenTree>, c: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// Whether `group` is the bracket of a `#[cfg(test)]` attribute.
fn is_cfg_test(group: &proc_macro2::Group) -> bool {
    let text: String = group.stream().to_string().split_whitespace().collect();
    group.delimiter() == Delimiter::Bracket && text == "cfg(test)"
}

/// Walks a token stream, skipping items under `#[cfg(test)]`, and records what `source` needs.
fn scan(stream: TokenStream, source: &mut Source, dir: &Path) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        // `#[cfg(test)] item`: skip the item, up to its body `{..}` or its `;`.
        if is_punct(tokens.get(i), '#')
            && let Some(TokenTree::Group(g)) = tokens.get(i + 1)
            && is_cfg_test(g)
        {
            i += 2;
            let mut declared = None;
            while let Some(t) = tokens.get(i) {
                i += 1;
                match t {
                    TokenTree::Ident(id) if id == "mod" => declared = ident(tokens.get(i)),
                    TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
                    TokenTree::Punct(p) if p.as_char() == ';' => {
                        if let Some(name) = declared.take() {
                            source.test_modules.push(dir.join(format!("{name}.rs")));
                            source.test_modules.push(dir.join(name).join("mod.rs"));
                        }
                        break;
                    }
                    _ => {}
                }
            }
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(g) => {
                // `#[derive(A, b::C)]`: the names derived.
                if is_punct(i.checked_sub(1).and_then(|p| tokens.get(p)), '#')
                    && g.delimiter() == Delimiter::Bracket
                {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    if ident(inner.first()).as_deref() == Some("derive")
                        && let Some(TokenTree::Group(list)) = inner.get(1)
                    {
                        for t in list.stream() {
                            if let TokenTree::Ident(id) = t {
                                let (line, column) = position(id.span());
                                source.traits.push(Use { name: id.to_string(), line, column });
                            }
                        }
                    }
                }
                scan(g.stream(), source, dir);
            }
            TokenTree::Punct(p)
                if matches!(p.as_char(), '=' | '!')
                    && p.spacing() == proc_macro2::Spacing::Joint
                    && is_punct(tokens.get(i + 1), '=') =>
            {
                // `x == "…"`, `x != "…"` (not `a <= b`: the scanner sees `=` after `<`).
                if !matches!(i.checked_sub(1).and_then(|q| tokens.get(q)), Some(TokenTree::Punct(q)) if q.spacing() == proc_macro2::Spacing::Joint)
                    && let Some(word) = string_literal(tokens.get(i + 2))
                {
                    let (line, column) = position(p.span());
                    source.words.push(Use { name: word, line, column });
                }
            }
            TokenTree::Ident(id) => {
                let name = id.to_string();
                let (line, column) = position(id.span());
                const TESTS: &[&str] =
                    &["contains", "starts_with", "ends_with", "strip_prefix", "strip_suffix", "find"];
                if TESTS.contains(&name.as_str())
                    && is_punct(i.checked_sub(1).and_then(|p| tokens.get(p)), '.')
                    && let Some(TokenTree::Group(args)) = tokens.get(i + 1)
                    && args.delimiter() == Delimiter::Parenthesis
                    && let Some(word) = string_literal(args.stream().into_iter().next().as_ref())
                {
                    source.words.push(Use { name: word, line, column });
                }
                let path_sep = is_punct(tokens.get(i + 1), ':') && is_punct(tokens.get(i + 2), ':');
                // `impl<'de> Deserialize<'de> for X`, `impl serde::Serialize for X`.
                if name == "impl" {
                    let mut j = i + 1;
                    while let Some(t) = tokens.get(j) {
                        match t {
                            TokenTree::Ident(x) if x == "for" => break,
                            TokenTree::Ident(x) => {
                                let (line, column) = position(x.span());
                                source.traits.push(Use { name: x.to_string(), line, column });
                            }
                            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
                            _ => {}
                        }
                        j += 1;
                    }
                }
                if path_sep {
                    if let Some(next) = ident(tokens.get(i + 3)) {
                        source.paths.push(Use { name: format!("{name}::{next}"), line, column });
                    }
                    if name == "crate" {
                        match tokens.get(i + 3) {
                            Some(TokenTree::Ident(m)) => {
                                let (line, column) = position(m.span());
                                source.crate_uses.push(Use { name: m.to_string(), line, column });
                            }
                            // `use crate::{a, b::c}`: the first name of each part.
                            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                                let mut first = true;
                                for t in g.stream() {
                                    match &t {
                                        TokenTree::Ident(m) if first => {
                                            let (line, column) = position(m.span());
                                            source.crate_uses.push(Use { name: m.to_string(), line, column });
                                            first = false;
                                        }
                                        TokenTree::Punct(p) if p.as_char() == ',' => first = true,
                                        _ => first = false,
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                } else if is_punct(tokens.get(i + 1), '!')
                    && !is_punct(i.checked_sub(1).and_then(|p| tokens.get(p)), ':')
                {
                    source.macros.push(Use { name, line, column });
                } else if name == "use"
                    && let Some(first) = ident(tokens.get(i + 1))
                    && is_punct(tokens.get(i + 2), ';')
                {
                    // `use anyhow;`
                    source.paths.push(Use { name: first, line, column });
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The text of a plain string literal (`"…"`), without its quotes.
fn string_literal(tree: Option<&TokenTree>) -> Option<String> {
    match tree {
        Some(TokenTree::Literal(l)) => {
            let text = l.to_string();
            text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).map(str::to_string)
        }
        _ => None,
    }
}

/// Every `.rs` file under `src/`, read, sorted by path.
fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = root();
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    let read: Vec<(PathBuf, Source)> = files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let rel = file.strip_prefix(&root).expect("under the root").to_path_buf();
            let parts: Vec<String> =
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let module = match parts.as_slice() {
                [_, f] if f == "lib.rs" || f == "main.rs" => None,
                [_, f] => Some(f.trim_end_matches(".rs").to_string()),
                [_, m, ..] => Some(m.clone()),
                _ => None,
            };
            // Where this file's `mod x;` declarations live.
            let stem = file.file_stem().expect("a file name").to_string_lossy().into_owned();
            let dir = match stem.as_str() {
                "mod" | "lib" | "main" => file.parent().expect("a directory").to_path_buf(),
                _ => file.parent().expect("a directory").join(&stem),
            };
            let stream: TokenStream =
                text.parse().unwrap_or_else(|e| panic!("{}: not Rust tokens: {e:?}", rel.display()));
            let mut source = Source {
                path: rel.to_string_lossy().replace('\\', "/"),
                module,
                crate_uses: Vec::new(),
                paths: Vec::new(),
                macros: Vec::new(),
                traits: Vec::new(),
                words: Vec::new(),
                test_modules: Vec::new(),
                lines: text.lines().count(),
            };
            scan(stream, &mut source, &dir);
            (file, source)
        })
        .collect();
    // Files that only unit tests use (declared under `#[cfg(test)]`) are exempt.
    let test_only: BTreeSet<PathBuf> = read.iter().flat_map(|(_, s)| s.test_modules.clone()).collect();
    read.into_iter().filter(|(file, _)| !test_only.contains(file)).map(|(_, s)| s).collect()
}

/// The layers of `src/lib.rs`: module name to layer number.
fn layers() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    let mut layers = BTreeMap::new();
    let mut current = None;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else { break };
        let text = doc.trim_start();
        if let Some((number, _)) = text.split_once(". ")
            && let Ok(n) = number.parse::<usize>()
        {
            current = Some(n);
        } else if !doc.starts_with("    ") {
            current = None;
        }
        let Some(layer) = current else { continue };
        for link in text.split("[`").skip(1) {
            if let Some((name, _)) = link.split_once("`]") {
                let previous = layers.insert(name.to_string(), layer);
                assert!(previous.is_none(), "src/lib.rs puts module `{name}` in two layers");
            }
        }
    }
    layers
}

#[test]
fn every_module_is_in_one_layer_of_lib_rs() {
    let layers = layers();
    assert!(layers.len() >= 10, "the layer list of src/lib.rs was not found: {layers:?}");
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    let declared: BTreeSet<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    let listed: BTreeSet<&str> = layers.keys().map(String::as_str).collect();
    assert_eq!(declared, listed, "src/lib.rs: every `pub mod` must be in exactly one layer of the list");
}

#[test]
fn no_module_uses_a_module_of_a_higher_layer() {
    let layers = layers();
    let mut wrong = Vec::new();
    for source in sources() {
        let Some(module) = &source.module else { continue };
        let own = layers[module];
        for u in &source.crate_uses {
            let Some(&theirs) = layers.get(&u.name) else {
                wrong.push(format!(
                    "{}:{}:{}: `crate::{}` is not a module of the layer list",
                    source.path, u.line, u.column, u.name
                ));
                continue;
            };
            if theirs > own {
                wrong.push(format!(
                    "{}:{}:{}: `{module}` (layer {own}) uses `{}` (layer {theirs}), a higher layer",
                    source.path, u.line, u.column, u.name
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that run up a layer (see src/lib.rs):\n{}", wrong.join("\n"));
}

#[test]
fn the_core_does_no_io_and_never_reads_the_wall_clock() {
    const CORE: &[&str] = &["matcher", "path", "jit", "sim"];
    const FORBIDDEN_PATHS: &[&str] = &[
        "std::fs",
        "std::io",
        "std::env",
        "std::process",
        "std::thread",
        "std::net::TcpStream",
        "std::net::UdpSocket",
    ];
    const FORBIDDEN_MACROS: &[&str] = &["print", "println", "eprint", "eprintln", "dbg"];
    let mut wrong = Vec::new();
    for source in sources().iter().filter(|s| s.module.as_deref().is_some_and(|m| CORE.contains(&m))) {
        for p in &source.paths {
            let clock = p.name == "std::time";
            if FORBIDDEN_PATHS.iter().any(|f| p.name == *f || p.name.starts_with(&format!("{f}::"))) || clock
            {
                wrong.push(format!("{}:{}:{}: `{}`", source.path, p.line, p.column, p.name));
            }
        }
        for m in source.macros.iter().filter(|m| FORBIDDEN_MACROS.contains(&m.name.as_str())) {
            wrong.push(format!("{}:{}:{}: `{}!`", source.path, m.line, m.column, m.name));
        }
    }
    assert!(wrong.is_empty(), "I/O or the wall clock in matcher, path, jit or sim:\n{}", wrong.join("\n"));
}

#[test]
fn only_scenario_and_import_deserialize_and_nothing_serializes() {
    let mut wrong = Vec::new();
    for source in sources() {
        let module = source.module.as_deref().unwrap_or("");
        for t in &source.traits {
            let reading = t.name == "Deserialize" || t.name == "Visitor" || t.name == "DeserializeSeed";
            if (reading && module != "scenario" && module != "import") || t.name == "Serialize" {
                wrong.push(format!("{}:{}:{}: `{}` in `{module}`", source.path, t.line, t.column, t.name));
            }
        }
    }
    assert!(wrong.is_empty(), "serde outside its place:\n{}", wrong.join("\n"));
}

#[test]
fn only_the_command_line_knows_clap_and_anyhow() {
    let mut wrong = Vec::new();
    for source in sources().iter().filter(|s| s.module.as_deref() != Some("cli") && s.path != "src/main.rs") {
        for p in &source.paths {
            let first = p.name.split("::").next().unwrap_or("");
            if first == "clap" || first == "anyhow" {
                wrong.push(format!("{}:{}:{}: `{}`", source.path, p.line, p.column, p.name));
            }
        }
        for m in source.macros.iter().filter(|m| m.name == "anyhow" || m.name == "bail") {
            wrong.push(format!("{}:{}:{}: `{}!`", source.path, m.line, m.column, m.name));
        }
    }
    assert!(wrong.is_empty(), "clap or anyhow outside cli:\n{}", wrong.join("\n"));
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let sources = sources();
    let mut wrong = Vec::new();
    for source in &sources {
        if source.lines > MAX_LINES && !AWAITING_SPLIT.contains(&source.path.as_str()) {
            wrong.push(format!(
                "{}: {} lines (at most {MAX_LINES}: split it by concern)",
                source.path, source.lines
            ));
        }
    }
    for listed in AWAITING_SPLIT {
        match sources.iter().find(|s| s.path == *listed) {
            Some(s) if s.lines <= MAX_LINES => {
                wrong.push(format!("{listed}: {} lines now; remove it from AWAITING_SPLIT", s.lines));
            }
            None => wrong.push(format!("{listed}: no such file; remove it from AWAITING_SPLIT")),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The scanner itself: a use that runs up a layer is found in every way it can be written, and
/// unit tests, comments and strings are not read.
#[test]
fn the_scanner_finds_crate_paths_however_written() {
    let text = r#"
        use crate::net::Flow;
        use crate::{time, cli::Format};
        fn f() { let _ = crate::report::trace_text; matches!(x, crate::sim::Event::A); }
        // crate::analysis in a comment
        /// crate::reach in a doc comment
        fn g() { let _ = "crate::quiz in a string"; println!("x"); }
        #[derive(Clone, serde::Deserialize)]
        struct S;
        impl<'de> Deserialize<'de> for T {}
        #[cfg(test)]
        mod tests { use crate::scenario::load_str; fn t(s: &str) -> bool { s.contains("in a test") } }
        #[cfg(test)]
        mod testing;
        fn h(s: &str) -> bool { s == "system (Internet)" || s.starts_with("refused: ") || s <= "b" || s.len() != 3 }
    "#;
    let mut source = Source {
        path: "x.rs".into(),
        module: Some("x".into()),
        crate_uses: Vec::new(),
        paths: Vec::new(),
        macros: Vec::new(),
        traits: Vec::new(),
        words: Vec::new(),
        test_modules: Vec::new(),
        lines: 0,
    };
    scan(text.parse().expect("tokens"), &mut source, Path::new("src/x"));
    let names: Vec<&str> = source.crate_uses.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["net", "time", "cli", "report", "sim"]);
    assert_eq!((source.crate_uses[0].line, source.crate_uses[0].column), (2, 20));
    let macros: Vec<&str> = source.macros.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(macros, ["matches", "println"]);
    let traits: Vec<&str> = source.traits.iter().map(|u| u.name.as_str()).collect();
    assert!(traits.contains(&"Deserialize") && traits.contains(&"Clone"), "{traits:?}");
    assert_eq!(
        source.test_modules,
        [PathBuf::from("src/x/testing.rs"), PathBuf::from("src/x/testing/mod.rs")]
    );
    let words: Vec<&str> = source.words.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(words, ["system (Internet)", "refused: "]);
}

/// Outcomes are data (issue 23): no code outside `report` (which renders messages) decides by
/// testing a message for the words the engine writes. Each phrase below was once tested for
/// (`selected.source == "system (Internet)"`, `rule.contains("/JIT-")`, a range's name
/// `starts_with("RFC 1918")`, an ARM error `starts_with("unsupported template expression")`, …);
/// the fact now travels as a variant or a field.
#[test]
fn no_code_outside_report_decides_by_a_messages_words() {
    const PHRASES: &[&str] = &[
        "system (",
        "user route",
        "JIT-",
        "RFC 1918",
        "unique local",
        "refused",
        "only known at deployment",
        "TEST00",
        "is not an integer",
        "argument(s)",
        // The ARM evaluator once sniffed its own sentences: a syntax error by its words (to add
        // what a valid expression looks like), a parameter's default by its label, a failure by
        // whether its words began with a call.
        "unsupported template expression",
        "unterminated string literal",
        "; valid:",
        "parameters('",
        // A hop's and a chain decider's rule was once Azure's spelling that diff, the scenario's
        // origins, lint and JIT drift cut apart again (`strip_prefix("securityRules/")`); it is
        // a `RuleRef` now, asked `user_rule_name()`.
        "securityRules/",
        "ruleCollections/",
        "(no NSG)",
        // Every hop is data (`path::HopDetail` and its families): the engine's unit tests once
        // tested route, peering, load balancer and outbound hops for these words.
        "not peered",
        "blocks virtual network access",
        "default outbound access",
        "closed to inbound",
        "no healthy member",
        "is down",
        "gateway transit",
    ];
    let mut wrong = Vec::new();
    for source in sources().iter().filter(|s| s.module.as_deref() != Some("report")) {
        for w in source.words.iter().filter(|w| PHRASES.iter().any(|p| w.name.contains(p))) {
            wrong.push(format!("{}:{}:{}: tests text for \"{}\"", source.path, w.line, w.column, w.name));
        }
    }
    assert!(
        wrong.is_empty(),
        "decisions by a message's words (match a variant or a field instead):\n{}",
        wrong.join("\n")
    );
}

/// One position type (issue 23): a line and column is a `position::Position`, printed by its
/// `Display`, never a tuple or a pair of loose fields that each error formats by hand. The
/// scenario file's own `origin` entries (`schema_origins.rs`) are the file format, not a position.
/// Every typed id is declared in `src/ids.rs` (issue 23), the bottom layer, so that any layer
/// can name any id and a newcomer finds them in one place; the modules that own a table
/// re-export theirs. A `pub struct …Id` declared anywhere else fails here.
#[test]
fn every_typed_id_is_declared_in_ids_rs() {
    let root = root();
    let mut wrong = Vec::new();
    for source in sources() {
        if source.path == "src/ids.rs" {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&source.path))
            .unwrap_or_else(|e| panic!("{}: {e}", source.path));
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            if let Some(rest) = line.trim_start().strip_prefix("pub struct ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if name.ends_with("Id") {
                    wrong.push(format!("{}:{}: `{name}`: declare it in src/ids.rs", source.path, i + 1));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let ids = std::fs::read_to_string(root.join("src/ids.rs")).expect("src/ids.rs");
    for name in ["VnetId", "NicId", "FirewallId", "LoadBalancerId", "GrantId", "RequestId"] {
        assert!(ids.contains(&format!("    {name},")), "src/ids.rs declares {name}");
    }
}

#[test]
fn every_line_and_column_is_a_position() {
    const SHAPES: &[&str] = &["pub column:", "column: Option<usize>", "position: Option<(usize, usize)>"];
    const EXEMPT: &[&str] = &["src/position.rs", "src/scenario/schema_origins.rs"];
    let root = root();
    let mut wrong = Vec::new();
    for source in sources() {
        if EXEMPT.contains(&source.path.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&source.path))
            .unwrap_or_else(|e| panic!("{}: {e}", source.path));
        // Unit tests may build their expectations however they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            if let Some(shape) = SHAPES.iter().find(|s| line.contains(*s)) {
                wrong.push(format!("{}:{}: `{shape}`: use crate::position::Position", source.path, i + 1));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A field of a scenario is a `scenario::FieldPath` (issue 23), built segment by segment
/// (`FieldPath::root("nsgs").index(i).field("rules")`), never written as text
/// (`format!("nsgs[{i}].rules")`) for other code to read back. Where scenario fields are named
/// (the loader, the simulator, the classroom, the command line, the importer's origins), no
/// `format!` writes a literal in the path's shape: a name or `{x}`, then `.name`, `.{x}`, `[{i}]`
/// or `[0]` steps. The JSON paths of input files (ARM, flow logs) are another grammar, not
/// checked here.
#[test]
fn a_scenario_field_is_built_never_formatted() {
    const WHERE: &[&str] = &[
        "src/scenario/",
        "src/sim/",
        "src/serve/",
        "src/cli/",
        "src/import/builder/",
        "src/import/origin_map.rs",
    ];
    let root = root();
    let mut wrong = Vec::new();
    for source in sources().iter().filter(|s| WHERE.iter().any(|w| s.path.starts_with(w))) {
        let text = std::fs::read_to_string(root.join(&source.path))
            .unwrap_or_else(|e| panic!("{}: {e}", source.path));
        // Unit tests may write the text they expect.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            for literal in line.split("format!(\"").skip(1).filter_map(|rest| rest.split('"').next()) {
                if is_field_path_text(literal) {
                    wrong.push(format!(
                        "{}:{}: format!(\"{literal}\"): build a FieldPath",
                        source.path,
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Whether `text` has the shape of a field path with at least one step after its start.
fn is_field_path_text(text: &str) -> bool {
    // A field's name: a lowercase letter or `_`, then those and digits (`192.0.2.{x}` is none).
    let name = |s: &str| {
        s.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let hole = |s: &str| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).is_some_and(name);
    let start = text.find(['.', '[']).unwrap_or(text.len());
    let (first, mut rest) = text.split_at(start);
    if !(name(first) || hole(first)) || rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if !(name(&after[..end]) || hole(&after[..end])) {
                return false;
            }
            rest = &after[end..];
        } else if let Some((inside, after)) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            if !(hole(inside) || (!inside.is_empty() && inside.bytes().all(|b| b.is_ascii_digit()))) {
                return false;
            }
            rest = after;
        } else {
            return false;
        }
    }
    true
}

#[test]
fn a_field_path_written_as_text_is_recognised() {
    for path in ["nsgs[{ni}].rules", "{field}.name", "{field}[{i}]", "vms[0].nics", "{of}.{x}"] {
        assert!(is_field_path_text(path), "{path}");
    }
    for text in
        ["[{}]", "nsg/{}", "{field}", "name", "port {number} is outside", "{a}:{b}", "x.{}", "192.0.2.{n}"]
    {
        assert!(!is_field_path_text(text), "{text}");
    }
}

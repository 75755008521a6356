//! `nsgsim graph FILE`: the topology as a Graphviz DOT graph (render with `dot -Tsvg`); the
//! scenario's caveats (what is not drawn because it was not modelled) go to stderr.

use std::path::PathBuf;

use serde_json::json;

use super::common::{load, print_caveats, print_json};
use super::{EXIT_OK, Format};
use crate::model::{Caveat, TopologyGraph};
use crate::report::caveats_json;

/// Arguments of `nsgsim graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Output format: text is Graphviz DOT; JSON lists nodes and edges.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let graph = TopologyGraph::new(&scenario.topology);
    let caveats: Vec<&Caveat> = scenario.caveats.iter().collect();
    match args.format {
        Format::Text => print!("{}", graph.to_dot()),
        Format::Json => {
            let g = graph.graph();
            let nodes: Vec<_> =
                g.node_indices().map(|i| json!({"id": i.index(), "node": format!("{:?}", g[i])})).collect();
            let edges: Vec<_> = g
                .edge_indices()
                .filter_map(|e| {
                    g.edge_endpoints(e).map(
                        |(a, b)| json!({"from": a.index(), "to": b.index(), "edge": format!("{:?}", g[e])}),
                    )
                })
                .collect();
            print_json(&json!({ "nodes": nodes, "edges": edges, "caveats": caveats_json(&caveats) }));
        }
    }
    print_caveats(&args.file, &caveats);
    Ok(EXIT_OK)
}

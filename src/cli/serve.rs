//! `nsgsim serve FILE [--bind 127.0.0.1:8080] [--open]`: the live classroom in the browser. Prints
//! the page's address, then serves until interrupted (Ctrl-C).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::EXIT_OK;
use super::common::load;
use crate::serve::{Config, Server};

/// Arguments of `nsgsim serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Address to listen on. The default is loopback only; an address reachable from other
    /// machines (0.0.0.0:8080) lets a class join from their laptops.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
    /// A host name the server also answers to (repeat for several), e.g. the machine's name when
    /// the class connects by name; IP addresses and localhost are always accepted.
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    /// The most sessions (browser tabs, scripts) kept at once; the least recently used is
    /// forgotten when one more opens.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub max_sessions: u16,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs the command: serves until the process is interrupted.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the file: {e}", args.file.display()))?;
    let caveats: Vec<&crate::model::Caveat> = scenario.caveats.iter().collect();
    super::common::print_caveats(&args.file, &caveats);
    let config = Config {
        bind: args.bind,
        allowed_hosts: args.allow_hosts.clone(),
        max_sessions: usize::from(args.max_sessions),
    };
    let server = Server::bind(scenario, text, &config).map_err(|e| anyhow::anyhow!("--bind: {e}"))?;
    let url = server.url();
    println!("nsgsim serve: {} at {url}", args.file.display());
    println!("  presenter mode: {url}?mode=presenter");
    println!("  API: {url}api/scenario (docs/serve.md); stop with Ctrl-C");
    if server.is_exposed() {
        eprintln!(
            "warning: listening on {}, reachable from other machines; anyone who can reach it can use the classroom",
            server.local_addr()
        );
    }
    if args.open {
        open_browser(&url);
    }
    server.run().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(EXIT_OK)
}

/// Asks the desktop to open `url`; says so when it cannot (the address is printed anyway).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(target_os = "windows") {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    let spawned = std::process::Command::new(opener.0)
        .args(&opener.1)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("warning: --open: cannot start '{}' ({e}); open {url} yourself", opener.0);
    }
}

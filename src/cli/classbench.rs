//! `nsgsim classbench RULES TRACE`: owned by the matcher work (issue 3).

use std::path::PathBuf;

use super::Format;

/// Arguments of `nsgsim classbench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// ClassBench filter set (one rule per line, line order = priority).
    pub rules: PathBuf,
    /// ClassBench header trace whose last column is the 1-based index of the expected first match.
    pub trace: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    anyhow::bail!("classbench is not built yet ({} {})", args.rules.display(), args.trace.display())
}

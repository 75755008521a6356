//! Helpers every command shares: loading scenarios, printing, colour.

use std::io::IsTerminal;
use std::path::Path;

use crate::report::Style;
use crate::scenario::{Scenario, load_file};
use crate::sim::Duration;

/// Loads a scenario, turning a load error into the one-line diagnostic.
pub fn load(path: &Path) -> anyhow::Result<Scenario> {
    load_file(path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Parses an `--at` offset.
pub fn offset(text: &str) -> anyhow::Result<Duration> {
    Duration::parse(text).map_err(|m| anyhow::anyhow!("--at: {m}"))
}

/// Colour only for a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub fn style() -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Style { color: !no_color && std::io::stdout().is_terminal() }
}

/// Prints a JSON value, pretty.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

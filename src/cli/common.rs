//! Helpers every command shares: loading scenarios, printing, colour.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::model::{Caveat, ServiceTagFile};
use crate::report::{Style, caveat_line, service_tags_note};
use crate::scenario::{LoadOptions, Scenario, load_file_with, read_service_tag_file};
use crate::sim::Duration;
use crate::text::safe_message;

/// `--service-tags FILE`, shared by every command that loads a scenario.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TagArgs {
    /// Microsoft's "Azure IP Ranges and Service Tags" JSON (the weekly download, or what `az
    /// network list-service-tags` prints): service tags take their members from it. Overrides
    /// the scenario's `service_tags_file`.
    #[arg(long = "service-tags", value_name = "FILE")]
    pub service_tags: Option<PathBuf>,
    /// The file, read once for every scenario the command loads.
    #[arg(skip)]
    read: OnceLock<Arc<ServiceTagFile>>,
}

impl TagArgs {
    /// The load options these arguments give: Microsoft's file, read on first use.
    ///
    /// # Errors
    /// The file cannot be read or is not Microsoft's shape (positioned, see
    /// `scenario::read_service_tag_file`).
    pub fn options(&self) -> anyhow::Result<LoadOptions> {
        let Some(path) = &self.service_tags else { return Ok(LoadOptions::default()) };
        if let Some(file) = self.read.get() {
            return Ok(LoadOptions { service_tags: Some(Arc::clone(file)) });
        }
        let file = read_service_tag_file(path, &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("--service-tags: {e}"))?;
        let file = Arc::clone(self.read.get_or_init(|| Arc::new(file)));
        Ok(LoadOptions { service_tags: Some(file) })
    }
}

/// Loads a scenario with Microsoft's service-tag file when one is given, turning a load error
/// into the one-line diagnostic, and prints where the tags its rules name come from
/// ([`print_tag_note`]).
pub fn load(path: &Path, tags: &TagArgs) -> anyhow::Result<Scenario> {
    let scenario = load_file_with(path, &tags.options()?).map_err(|e| anyhow::anyhow!("{e}"))?;
    print_tag_note(&scenario);
    Ok(scenario)
}

/// Prints on stderr where the service tags the scenario's rules name come from: Microsoft's
/// file with its cloud and change number, or the built-in sample, "not Microsoft's list".
pub fn print_tag_note(scenario: &Scenario) {
    for line in service_tags_note(&scenario.topology) {
        eprintln!("note: {}: {}", scenario.file.display(), safe_message(&line));
    }
}

/// The simulation of `scenario` at the `--at` offset (its start when absent): every step and
/// event up to then applied.
pub fn simulate_at(
    scenario: &Scenario,
    at: Option<&str>,
) -> anyhow::Result<(crate::sim::Simulator, Duration)> {
    let offset = at_offset(scenario, at)?;
    Ok((replay(scenario, offset)?, offset))
}

/// The simulation of `scenario` at `offset`. A timeline step that cannot be applied is an error
/// of the file (`file:line:col: timeline[3].action.rule: step at 6m: …`), reported alike by every
/// command that replays a timeline, which then exits 2.
pub fn replay(scenario: &Scenario, offset: Duration) -> anyhow::Result<crate::sim::Simulator> {
    crate::sim::replay_until(scenario.world(), &scenario.steps, offset)
        .map_err(|e| anyhow::anyhow!("{}", scenario.step_error(&e)))
}

/// The whole timeline of `scenario` played with its expectations checked; a step that cannot be
/// applied is reported as by [`replay`].
pub fn run_timeline(scenario: &Scenario) -> anyhow::Result<crate::sim::RunReport> {
    crate::sim::run(scenario.world(), &scenario.steps)
        .map_err(|e| anyhow::anyhow!("{}", scenario.step_error(&e)))
}

/// Reads the offset given to `flag` for `scenario` (`Scenario::offset`: 0 or more, within the
/// calendar), the one rule of every command.
pub fn flag_offset(scenario: &Scenario, flag: &str, text: &str) -> anyhow::Result<Duration> {
    scenario.offset(text).map_err(|m| anyhow::anyhow!("{flag}: {m}"))
}

/// The `--at` offset for `scenario`, or its start when absent.
pub fn at_offset(scenario: &Scenario, at: Option<&str>) -> anyhow::Result<Duration> {
    at.map_or(Ok(Duration::from_secs(0)), |text| flag_offset(scenario, "--at", text))
}

/// Prints an error on stderr as `error: …`, made safe to print ([`safe_message`]: control
/// characters escaped, long values cut), whatever built the message.
pub fn print_error(message: &dyn std::fmt::Display) {
    eprintln!("error: {}", safe_message(&message.to_string()));
}

/// Prints a warning on stderr as `warning: …`, made safe to print like [`print_error`].
pub fn print_warning(message: &dyn std::fmt::Display) {
    eprintln!("warning: {}", safe_message(&message.to_string()));
}

/// When to colour text output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Colour only for a terminal, and never when `NO_COLOR` is set (<https://no-color.org>).
pub fn style() -> Style {
    style_for(ColorChoice::Auto)
}

/// The style for an explicit `--color` choice.
pub fn style_for(choice: ColorChoice) -> Style {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    };
    Style { color }
}

/// Prints a JSON value, pretty.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Prints `log` as SARIF on stdout (compact JSON and a newline), written as it goes through one
/// buffer: SARIF logs of large policies run to tens of megabytes, which a `Value` tree, pretty-
/// printing or unbuffered writes would slow down. Relative paths are written against the
/// current directory (a CI job runs at the repository's root).
///
/// # Errors
/// The current directory is unknown, or writing to stdout failed.
pub fn print_sarif(log: &crate::report::SarifLog) -> anyhow::Result<()> {
    use std::io::Write as _;
    let base = std::env::current_dir()?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    crate::report::write_sarif(log, &base, &mut out)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints the caveat line of `file` on stderr when `caveats` is not empty. Stderr, whatever the
/// format, so that a user sees it even when the answer on stdout is piped into a file or `jq`;
/// the JSON answer carries the same caveats as data.
pub fn print_caveats(file: &Path, caveats: &[&Caveat]) {
    if let Some(line) = caveat_line(&file.display().to_string(), caveats) {
        eprintln!("{}", safe_message(&line));
    }
}

/// The exit code under `--strict`: when the answer depends on caveats, 1 with a message on
/// stderr (so that CI can refuse an incomplete model); otherwise `code` unchanged.
pub fn strict_code(strict: bool, caveats: usize, code: u8) -> u8 {
    if !strict || caveats == 0 {
        return code;
    }
    let noun = if caveats == 1 { "caveat" } else { "caveats" };
    eprintln!(
        "error: --strict: the answer depends on {caveats} {noun} (things that can change traffic were not modelled, named above); refusing an incomplete model"
    );
    code.max(super::EXIT_FAILED)
}

//! `nsgsim replay SCENARIO FLOWLOG...`: real traffic records (Azure NSG or virtual network flow
//! logs, or CSV) replayed against a scenario's policy, in parallel: flows per rule, rules that
//! decided nothing, verdict totals, and every flow where nsgsim disagrees with Azure's log.
//! Exit 1 on any disagreement, 2 on invalid input.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::common::{flag_offset, load, print_caveats, print_json, style};
use super::{EXIT_FAILED, EXIT_OK, GateFormat};
use crate::model::Caveat;
use crate::nsg::Direction;
use crate::replay::read::{self, FlowRecord};
use crate::replay::{
    Check, Impact, ImpactClass, Options, Outcome, Progress, ProgressState, Replay, ReplayError, Shown, Side,
    Timing, replay_against,
};
use crate::report::{Style, caveats_json, replay_sarif, side_text, trace_json, trace_text};
use crate::sim::{Duration, Instant};

/// Arguments of `nsgsim replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Traffic records: Azure NSG or virtual network flow logs (JSON as stored by Network
    /// Watcher), or CSV with the header `src,dst,src_port,dst_port,protocol[,expected][,at]`;
    /// files, directories (walked for *.json, *.csv and their .gz), gzip, or `-` for standard input.
    #[arg(required = true)]
    pub flowlogs: Vec<PathBuf>,
    /// Evaluate records at this offset of the timeline: 90m, 2h30m, PT1H (default: its end, after
    /// the last step and JIT expiry). With --log-start, only records without a time of their own.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Evaluate each flow-log record at its own time: this instant (RFC 3339, or `scenario` for
    /// the scenario's start) is offset 0; records logged earlier are not evaluated.
    #[arg(long)]
    pub log_start: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    /// Threads (default: one per core; at most 16 are used). Every thread reads, parses and
    /// evaluates: 1 is one core. The report is the same whatever the number.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// How many disagreements and unmapped records text output shows.
    #[arg(long, default_value_t = 10)]
    pub show: usize,
    /// How many disagreements, unmapped records and skipped errors JSON lists (the counts are
    /// always complete).
    #[arg(long, default_value_t = 1000)]
    pub list: usize,
    /// Count, report and skip malformed records (with their positions) instead of stopping at the
    /// first with exit 2.
    #[arg(long)]
    pub skip_bad: bool,
    /// No progress and no throughput line on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// A proposed scenario: evaluate every observed flow under it too, and class each observed
    /// path Impacted, Not impacted or Indeterminate (as Microsoft's Rule Impact Analyzer does).
    #[arg(long, value_name = "PROPOSED.ron")]
    pub against: Option<PathBuf>,
    /// With --against: exit 1 when an observed flow allowed now would be denied.
    #[arg(long, requires = "against")]
    pub fail_on_break: bool,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Progress on standard error, drawn by indicatif.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn update(&self, state: &ProgressState) {
        if let Some(total) = state.total_bytes {
            self.0.set_length(total);
        }
        self.0.set_position(state.bytes);
        self.0.set_message(format!(
            "{}/{} inputs, {} records",
            state.inputs_done,
            state.inputs,
            grouped(state.tuples)
        ));
    }
}

fn progress_bar(quiet: bool) -> Option<Bar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(Bar(bar))
}

/// Runs the command: 0 when nsgsim agrees with every logged decision and expectation, 1 when it
/// disagrees with one.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.scenario, &args.tags)?;
    let at = args.at.as_deref().map(|text| flag_offset(&scenario, "--at", text)).transpose()?;
    let log_start = match args.log_start.as_deref() {
        None => None,
        Some(text) if text.eq_ignore_ascii_case("scenario") => Some(scenario.start),
        Some(text) => {
            Some(Instant::parse(text).map_err(|m| anyhow::anyhow!("--log-start: {m}, or `scenario`"))?)
        }
    };
    let sources = read::expand(&args.flowlogs)?;
    let threads = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let timing = Timing { at, log_start };
    let options = Options { timing, skip_bad: args.skip_bad, samples: args.show.max(args.list), threads };
    let world = scenario.world();
    if args.format == GateFormat::Sarif && args.against.is_none() {
        anyhow::bail!(
            "--format sarif: SARIF lists the observed flows a proposal would break; give --against PROPOSED.ron, or use --format text|json"
        );
    }
    let proposal = args.against.as_deref().map(|path| load(path, &args.tags)).transpose()?;
    let proposed_world = proposal.as_ref().map(|p| p.world());
    let proposed = proposal.as_ref().zip(proposed_world.as_ref()).map(|(p, w)| (w, p.steps.as_slice()));
    let bar = progress_bar(args.quiet);
    // The wall clock is read here, in the CLI, only to report throughput.
    let started = std::time::Instant::now();
    let result = match &bar {
        Some(bar) => replay_against(&world, &scenario.steps, proposed, &sources, &options, bar),
        None => {
            replay_against(&world, &scenario.steps, proposed, &sources, &options, &crate::replay::NoProgress)
        }
    };
    if let Some(bar) = &bar {
        bar.0.finish_and_clear();
    }
    let result = result.map_err(|e| match e {
        ReplayError::Sim(e) => anyhow::anyhow!("{}", scenario.step_error(&e)),
        ReplayError::ProposedSim(e) => match &proposal {
            Some(p) => anyhow::anyhow!("{}", p.step_error(&e)),
            None => anyhow::anyhow!("{e}"),
        },
        ReplayError::Lanes { .. } => anyhow::anyhow!("--threads: {e}"),
        other => anyhow::anyhow!("{other}"),
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let run = Run { args, result: &result, timing, threads, seconds };
    // Records come from anywhere in the network, so every caveat concerns the replay.
    let caveats: Vec<&Caveat> = scenario.caveats.iter().collect();
    match args.format {
        GateFormat::Text => print!("{}", run.text(style())),
        GateFormat::Sarif => {
            let (Some(p), Some(path), Some(impact)) = (&proposal, &args.against, &result.impact) else {
                anyhow::bail!("--format sarif needs --against PROPOSED.ron");
            };
            // The current scenario's caveats concern the replay, the proposal's its answers.
            let all: Vec<&Caveat> = caveats.iter().copied().chain(&p.caveats).collect();
            let log = replay_sarif(path, impact, &p.places, &all, args.fail_on_break);
            super::common::print_sarif(&log)?;
        }
        GateFormat::Json => {
            let mut value = run.json();
            if let Some(obj) = value.as_object_mut() {
                obj.insert("caveats".into(), caveats_json(&caveats));
            }
            print_json(&value);
        }
    }
    print_caveats(&args.scenario, &caveats);
    if !args.quiet {
        eprintln!("{}", run.throughput());
    }
    let t = &result.tally;
    if t.compared == 0 && t.evaluated > 0 {
        eprintln!("note: no record carries Azure's decision or an expected verdict, so nothing was compared");
    }
    if result.skipped.any() {
        eprintln!("warning: {}", skipped_line(&result));
    }
    let breaks = result.impact.as_ref().is_some_and(|i| i.breaks > 0);
    Ok(if t.disagreements == 0 && !(args.fail_on_break && breaks) { EXIT_OK } else { EXIT_FAILED })
}

fn side_json(side: Option<&Side>) -> Value {
    match side {
        None => Value::Null,
        Some(s) => {
            json!({"access": s.access.to_string(), "nsg": s.nsg, "rule": s.rule.as_ref().map(ToString::to_string), "priority": s.priority})
        }
    }
}

/// The --against section of the text report.
fn impact_text(out: &mut String, impact: &Impact, proposed: &std::path::Path, show: usize) {
    let flows = |c: ImpactClass| impact.flows.get(&c).copied().unwrap_or(0);
    let _ = writeln!(out, "\nimpact of {} on the observed flows", proposed.display());
    let _ = writeln!(
        out,
        "  flows  impacted {}, not impacted {}, indeterminate {}",
        flows(ImpactClass::Impacted),
        flows(ImpactClass::NotImpacted),
        flows(ImpactClass::Indeterminate)
    );
    let _ = writeln!(
        out,
        "  would break {} (allowed now, denied then); would newly pass {}",
        impact.breaks, impact.passes
    );
    for p in impact.paths.iter().take(show) {
        let k = &p.path;
        let _ = writeln!(
            out,
            "  {}  {} {} -> {}:{} ({})",
            p.class,
            k.protocol,
            k.src,
            k.dst,
            k.dst_port,
            plural(p.flows, "flow")
        );
        let _ = writeln!(out, "    now:      {}", side_text(p.before.as_ref()));
        let _ = writeln!(out, "    proposed: {}", side_text(p.after.as_ref()));
    }
    let hidden = impact.paths.len().saturating_sub(show) + impact.paths_not_listed;
    if hidden > 0 {
        let _ =
            writeln!(out, "  ({} more impacted or indeterminate paths; --show or JSON lists more)", hidden);
    }
}

fn impact_json(impact: &Impact, listed: usize) -> Value {
    let flows: serde_json::Map<String, Value> =
        impact.flows.iter().map(|(c, n)| (c.to_string(), (*n).into())).collect();
    let paths: Vec<Value> = impact
        .paths
        .iter()
        .take(listed)
        .map(|p| {
            json!({
                "class": p.class.to_string(),
                "protocol": p.path.protocol.to_string(),
                "src": p.path.src.to_string(),
                "dst": p.path.dst.to_string(),
                "dst_port": p.path.dst_port,
                "flows": p.flows,
                "before": side_json(p.before.as_ref()),
                "after": side_json(p.after.as_ref()),
            })
        })
        .collect();
    json!({
        "flows": flows,
        "would_break": impact.breaks,
        "would_newly_pass": impact.passes,
        "paths": paths,
        "paths_not_listed": impact.paths_not_listed + impact.paths.len().saturating_sub(listed),
    })
}

/// What was skipped, as one line.
fn skipped_line(r: &Replay) -> String {
    let s = &r.skipped;
    format!(
        "--skip-bad skipped {}, {} and the rest of {}: their flows were not evaluated",
        plural(s.tuples, "malformed tuple or line"),
        plural(s.records, "malformed record"),
        plural(s.rest_of_inputs, "input"),
    )
}

/// Everything the renderers need.
struct Run<'a> {
    args: &'a Args,
    result: &'a Replay,
    timing: Timing,
    threads: usize,
    seconds: f64,
}

fn direction_name(d: Option<Direction>) -> &'static str {
    match d {
        Some(Direction::Inbound) => "Inbound",
        Some(Direction::Outbound) => "Outbound",
        None => "no NSG decided",
    }
}

/// `+10m (2025-01-06T09:10:00Z)`.
fn offset_text(start: Instant, d: Duration) -> String {
    format!("+{d} ({})", start.plus(d))
}

/// A number with thousands separators.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Run<'_> {
    fn flows_per_second(&self) -> f64 {
        self.result.tally.evaluated as f64 / self.seconds.max(1e-9)
    }

    fn when_text(&self) -> String {
        let r = self.result;
        let default = offset_text(r.start, r.at);
        let end_note = if self.timing.at.is_none() { ", the end of the timeline" } else { "" };
        match self.timing.log_start {
            None => format!("every record at {default}{end_note} (CSV rows with an `at` at theirs)"),
            Some(origin) => format!(
                "each flow-log record at its own time, {origin} = +0 (the timeline ends at +{}); other records at {default}{end_note}",
                r.end
            ),
        }
    }

    fn check_lines(&self, out: &mut String, shown: &Shown, check: &Check, at: Instant, style: Style) {
        let record = &shown.sample.record;
        let direction = record.logged.as_ref().map(|l| format!(" {}", l.direction)).unwrap_or_default();
        let _ = writeln!(out, "  {}", shown.origin);
        let _ = writeln!(out, "    {}{direction} at {at}", record.flow);
        let who = if check.logged_rule.is_some() { "Azure: " } else { "expected" };
        let logged = check.logged_rule.as_ref().map(|r| format!(" (logged as {r})")).unwrap_or_default();
        let _ = writeln!(out, "    {who} {}{logged}", check.reference);
        let _ = writeln!(out, "    nsgsim: {}", check.nsgsim);
        if let Some(note) = &check.note {
            let _ = writeln!(out, "    note:   {note}");
        }
        if let Some(trace) = &check.trace {
            out.push_str(&trace_text(trace, "      ", style));
        }
    }

    fn text(&self, style: Style) -> String {
        let (r, t) = (self.result, &self.result.tally);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "replay of {} against {}",
            plural(r.tuples, "record"),
            self.args.scenario.display()
        );
        for input in &r.inputs {
            let _ = writeln!(out, "  input  {}: {}", input.name, input.format);
        }
        let dropped = if r.dropped > 0 {
            format!(
                " ({} of connections already counted dropped: only a flow's begin, or its first record, counts)",
                plural(r.dropped, "record")
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "  flows  {}{dropped}", r.flows);
        if r.forgotten > 0 {
            let _ = writeln!(
                out,
                "  note   {} forgotten: more than {} were open at once; their later records counted as flows",
                plural(r.forgotten as usize, "open connection"),
                grouped((crate::replay::SHARDS * 65_536) as u64)
            );
        }
        let _ = writeln!(out, "  time   {}", self.when_text());
        let _ = writeln!(
            out,
            "  evaluated {}, unmapped {}, before the log start {}",
            t.evaluated, t.unmapped, t.before_start
        );
        if r.skipped.any() {
            let _ = writeln!(out, "  skipped {}", skipped_line(r));
            for error in r.skipped.first.iter().take(self.args.show) {
                let _ = writeln!(out, "    {error}");
            }
        }

        let _ =
            writeln!(out, "\nverdicts (nsgsim{})", if t.logged.is_empty() { "" } else { " / Azure's log" });
        for (direction, counts) in &t.verdicts {
            let mut line = format!(
                "  {:<15} allowed {:>6}  denied {:>6}",
                direction_name(*direction),
                counts.allowed,
                counts.denied
            );
            if let Some(d) = direction
                && let Some(logged) = t.logged.get(d)
            {
                let _ = write!(line, "   Azure: allowed {:>6}  denied {:>6}", logged.allowed, logged.denied);
            }
            let _ = writeln!(out, "{line}");
        }

        let _ = writeln!(out, "\nflows decided, per NSG rule");
        let mut current: Option<(&str, Direction)> = None;
        for rc in &t.rules {
            let key = (rc.hit.nsg.as_str(), rc.hit.direction);
            if current != Some(key) {
                let _ = writeln!(out, "  {} ({})", rc.hit.nsg, rc.hit.direction);
                current = Some(key);
            }
            let _ = writeln!(out, "    {:>8}  {}", rc.flows, rc.hit.rule);
        }
        if t.rules.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        let _ = writeln!(out, "\ndecided nothing: user rules of the NSGs above, candidates for cleanup");
        for rule in &t.unused {
            let _ = writeln!(
                out,
                "  {} ({}): {} (priority {})",
                rule.nsg, rule.direction, rule.rule, rule.priority
            );
        }
        if t.unused.is_empty() {
            let _ = writeln!(out, "  (none)");
        }

        if t.compared > 0 {
            if t.disagreements == 0 {
                let _ = writeln!(out, "\nagreement: nsgsim agrees on all {} compared flows", t.compared);
            } else {
                let showing = t.disagreements.min(self.args.show).min(r.disagreements.len());
                let _ = writeln!(
                    out,
                    "\ndisagreements: {} of {} compared flows (showing {showing})",
                    t.disagreements, t.compared,
                );
                for shown in r.disagreements.iter().take(showing) {
                    if let Outcome::Evaluated(e) = &shown.outcome
                        && let Some(check) = &e.check
                    {
                        self.check_lines(&mut out, shown, check, e.at, style);
                    }
                }
            }
        }
        if t.unmapped > 0 {
            let showing = t.unmapped.min(self.args.show).min(r.unmapped.len());
            let _ = writeln!(
                out,
                "\nunmapped: {} not in the scenario (showing {showing})",
                plural(t.unmapped, "record"),
            );
            for shown in r.unmapped.iter().take(showing) {
                if let Outcome::Unmapped(u) = &shown.outcome {
                    let _ = writeln!(out, "  {}: {}: {}", shown.origin, shown.sample.record.flow, u.reason);
                }
            }
        }
        if !t.unknown_addresses.is_empty() {
            let _ = writeln!(out, "\nunknown addresses (not in the scenario), records naming them");
            for (ip, n) in &t.unknown_addresses {
                let _ = writeln!(out, "  {:>8}  {ip}", n);
            }
            if t.unknown_overflow > 0 {
                let _ = writeln!(
                    out,
                    "  {:>8}  (other addresses: more than {} distinct ones are not listed)",
                    t.unknown_overflow,
                    crate::replay::MAX_UNKNOWN_ADDRESSES
                );
            }
        }
        if let (Some(impact), Some(proposed)) = (&r.impact, &self.args.against) {
            impact_text(&mut out, impact, proposed, self.args.show);
        }
        out
    }

    /// The throughput line, for stderr: it depends on the machine and the thread count, so it
    /// stays out of the (deterministic) report.
    fn throughput(&self) -> String {
        let r = self.result;
        format!(
            "throughput: {} records, {} flows in {:.3} s = {} records/s, {} flows/s on {}",
            grouped(r.tuples as u64),
            grouped(r.tally.evaluated as u64),
            self.seconds,
            grouped((r.tuples as f64 / self.seconds.max(1e-9)).round() as u64),
            grouped(self.flows_per_second().round() as u64),
            plural(self.threads, "thread")
        )
    }

    fn json(&self) -> Value {
        let (r, t) = (self.result, &self.result.tally);
        let counts = |c: &crate::replay::VerdictCounts| json!({"allowed": c.allowed, "denied": c.denied});
        let verdicts: serde_json::Map<String, Value> =
            t.verdicts.iter().map(|(d, c)| (direction_name(*d).to_string(), counts(c))).collect();
        let logged: serde_json::Map<String, Value> =
            t.logged.iter().map(|(d, c)| (d.to_string(), counts(c))).collect();
        let rules: Vec<Value> = t
            .rules
            .iter()
            .map(|rc| {
                let hours: Vec<Value> =
                    rc.hours.iter().map(|(h, n)| json!({"hour": h.to_string(), "flows": n})).collect();
                json!({
                    "nsg": rc.hit.nsg,
                    "direction": rc.hit.direction.to_string(),
                    "rule": rc.hit.rule.to_string(),
                    "flows": rc.flows,
                    "first_seen": rc.seen.map(|s| s.0.to_string()),
                    "last_seen": rc.seen.map(|s| s.1.to_string()),
                    "hours": hours,
                })
            })
            .collect();
        let unused: Vec<Value> = t
            .unused
            .iter()
            .map(|u| json!({"nsg": u.nsg, "direction": u.direction.to_string(), "rule": u.rule.to_string(), "priority": u.priority}))
            .collect();
        let decision = |d: &crate::replay::Decision| json!({"access": d.access.to_string(), "nsg": d.nsg, "rule": d.rule.as_ref().map(ToString::to_string)});
        let listed = self.args.list;
        let disagreements: Vec<Value> = r
            .disagreements
            .iter()
            .take(listed)
            .filter_map(|s| match &s.outcome {
                Outcome::Evaluated(e) => e.check.as_ref().map(|c| (s, e, c)),
                _ => None,
            })
            .map(|(s, e, c)| {
                let rec = &s.sample.record;
                let mut reference = decision(&c.reference);
                if let Some(obj) = reference.as_object_mut() {
                    obj.insert("logged_rule".into(), c.logged_rule.clone().into());
                }
                json!({
                    "record": s.origin,
                    "flow": flow_json(rec),
                    "at": e.at.to_string(),
                    "source": if c.logged_rule.is_some() { "azure" } else { "expected" },
                    "reference": reference,
                    "nsgsim": decision(&c.nsgsim),
                    "note": c.note,
                    "trace": c.trace.as_ref().map(trace_json),
                })
            })
            .collect();
        let unmapped: Vec<Value> = r
            .unmapped
            .iter()
            .take(listed)
            .filter_map(|s| match &s.outcome {
                Outcome::Unmapped(u) => {
                    Some(json!({"record": s.origin, "flow": flow_json(&s.sample.record), "reason": u.reason}))
                }
                _ => None,
            })
            .collect();
        let inputs: Vec<Value> =
            r.inputs.iter().map(|i| json!({"file": i.name, "format": i.format.to_string()})).collect();
        let mut doc = json!({
            "scenario": self.args.scenario.display().to_string(),
            "inputs": inputs,
            "records": r.tuples,
            "flows": r.flows,
            "dropped_records": r.dropped,
            "time": {
                "at": format!("+{}", r.at),
                "at_instant": r.start.plus(r.at).to_string(),
                "timeline_end": format!("+{}", r.end),
                "log_start": self.timing.log_start.map(|i| i.to_string()),
            },
            "evaluated": t.evaluated,
            "before_log_start": t.before_start,
            "unmapped_count": t.unmapped,
            "unmapped": unmapped,
            "verdicts": verdicts,
            "azure_verdicts": logged,
            "rules": rules,
            "unused_rules": unused,
            "compared": t.compared,
            "agrees": t.disagreements == 0,
            "disagreement_count": t.disagreements,
            "disagreements": disagreements,
            "unknown_addresses": t
                .unknown_addresses
                .iter()
                .map(|(ip, n)| json!({"address": ip.to_string(), "records": n}))
                .collect::<Vec<_>>(),
        });
        if let Some(obj) = doc.as_object_mut() {
            if t.unknown_overflow > 0 {
                obj.insert("unknown_addresses_not_listed".into(), t.unknown_overflow.into());
            }
            if r.forgotten > 0 {
                obj.insert("forgotten_connections".into(), r.forgotten.into());
            }
            if let Some(impact) = &r.impact {
                obj.insert("impact".into(), impact_json(impact, listed));
            }
            if r.skipped.any() {
                let s = &r.skipped;
                obj.insert(
                    "skipped".into(),
                    json!({
                        "tuples": s.tuples,
                        "records": s.records,
                        "rest_of_inputs": s.rest_of_inputs,
                        "errors": s.first.iter().take(listed).collect::<Vec<_>>(),
                    }),
                );
            }
        }
        doc
    }
}

fn flow_json(record: &FlowRecord) -> Value {
    let f = &record.flow;
    json!({
        "protocol": f.protocol.to_string(),
        "src": f.src.to_string(),
        "src_port": f.src_port,
        "dst": f.dst.to_string(),
        "dst_port": f.dst_port,
        "direction": record.logged.as_ref().map(|l| l.direction.to_string()),
        "time": record.time.map(|t| t.to_string()),
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }
}

//! `nsgsim replay SCENARIO FLOWLOG...`: real traffic records (Azure NSG or virtual network flow
//! logs, or CSV) replayed against a scenario's policy, in parallel: flows per rule, rules that
//! decided nothing, verdict totals, and every flow where nsgsim disagrees with Azure's log.
//! Exit 1 on any disagreement, 2 on invalid input.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::common::{flag_offset, load, print_caveats, print_json, style};
use super::{EXIT_FAILED, EXIT_OK, Format};
use crate::import::flowlog::{self, FlowRecord, Input};
use crate::model::Caveat;
use crate::nsg::Direction;
use crate::replay::{Check, Outcome, Replay, Tally, Timing, replay, tally};
use crate::report::{Style, caveats_json, trace_json, trace_text};
use crate::sim::{Duration, Instant};

/// Arguments of `nsgsim replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Traffic records: Azure NSG or virtual network flow logs (JSON as stored by Network
    /// Watcher), or CSV with the header `src,dst,src_port,dst_port,protocol[,expected][,at]`.
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// How many disagreements and unmapped records text output shows (JSON lists them all).
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

/// Runs the command: 0 when nsgsim agrees with every logged decision and expectation, 1 when it
/// disagrees with one.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.scenario)?;
    let at = args.at.as_deref().map(|text| flag_offset(&scenario, "--at", text)).transpose()?;
    let log_start = match args.log_start.as_deref() {
        None => None,
        Some(text) if text.eq_ignore_ascii_case("scenario") => Some(scenario.start),
        Some(text) => {
            Some(Instant::parse(text).map_err(|m| anyhow::anyhow!("--log-start: {m}, or `scenario`"))?)
        }
    };
    let mut inputs: Vec<Input> = Vec::new();
    for path in &args.flowlogs {
        inputs.push(flowlog::read(path)?);
    }
    let tuples: usize = inputs.iter().map(|i| i.records.len()).sum();
    let all: Vec<FlowRecord> = inputs.iter_mut().flat_map(|i| std::mem::take(&mut i.records)).collect();
    let (records, dropped) = flowlog::select_flows(all);
    // The CSV `at` column is an offset like `--at`, under the same rule.
    if let Some((record, m)) =
        records.iter().find_map(|r| r.at.and_then(|at| scenario.instant_at(at).err()).map(|m| (r, m)))
    {
        anyhow::bail!("{}: at: {m}", record.origin);
    }

    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(args.threads.map_or(0, usize::from)).build().map_err(
            |e| anyhow::anyhow!("--threads: cannot start the worker threads ({e}); valid: fewer threads"),
        )?;
    let threads = pool.current_num_threads();
    let timing = Timing { at, log_start };
    let world = scenario.world();
    // The wall clock is read here, in the CLI, only to report throughput.
    let started = std::time::Instant::now();
    let result = pool
        .install(|| replay(&world, &scenario.steps, &records, timing))
        .map_err(|e| anyhow::anyhow!("{}", scenario.step_error(&e)))?;
    let seconds = started.elapsed().as_secs_f64();
    let totals = tally(&result);
    let run = Run {
        args,
        inputs: &inputs,
        tuples,
        dropped,
        records: &records,
        result: &result,
        totals: &totals,
        timing,
        threads,
        seconds,
    };
    // Records come from anywhere in the network, so every caveat concerns the replay.
    let caveats: Vec<&Caveat> = scenario.caveats.iter().collect();
    match args.format {
        Format::Text => print!("{}", run.text(style())),
        Format::Json => {
            let mut value = run.json();
            if let Some(obj) = value.as_object_mut() {
                obj.insert("caveats".into(), caveats_json(&caveats));
            }
            print_json(&value);
        }
    }
    print_caveats(&args.scenario, &caveats);
    eprintln!("{}", run.throughput());
    if totals.compared == 0 && totals.evaluated > 0 {
        eprintln!("note: no record carries Azure's decision or an expected verdict, so nothing was compared");
    }
    Ok(if totals.disagreements.is_empty() { EXIT_OK } else { EXIT_FAILED })
}

/// Everything the renderers need.
struct Run<'a> {
    args: &'a Args,
    inputs: &'a [Input],
    tuples: usize,
    dropped: usize,
    records: &'a [FlowRecord],
    result: &'a Replay,
    totals: &'a Tally,
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
        self.totals.evaluated as f64 / self.seconds.max(1e-9)
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

    fn check_lines(&self, out: &mut String, index: usize, check: &Check, at: Instant, style: Style) {
        let record = &self.records[index];
        let direction = record.logged.as_ref().map(|l| format!(" {}", l.direction)).unwrap_or_default();
        let _ = writeln!(out, "  {}", record.origin);
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
        let (r, t) = (self.result, self.totals);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "replay of {} against {}",
            plural(self.tuples, "record"),
            self.args.scenario.display()
        );
        for input in self.inputs {
            let _ = writeln!(out, "  input  {}: {}", input.file.display(), input.format);
        }
        let dropped = if self.dropped > 0 {
            format!(
                " ({} of connections already counted dropped: only a flow's begin, or its first record, counts)",
                plural(self.dropped, "record")
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "  flows  {}{dropped}", self.records.len());
        let _ = writeln!(out, "  time   {}", self.when_text());
        let _ = writeln!(
            out,
            "  evaluated {}, unmapped {}, before the log start {}",
            t.evaluated,
            t.unmapped.len(),
            t.before_start
        );

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
            if t.disagreements.is_empty() {
                let _ = writeln!(out, "\nagreement: nsgsim agrees on all {} compared flows", t.compared);
            } else {
                let _ = writeln!(
                    out,
                    "\ndisagreements: {} of {} compared flows (showing {})",
                    t.disagreements.len(),
                    t.compared,
                    t.disagreements.len().min(self.args.show)
                );
                for &i in t.disagreements.iter().take(self.args.show) {
                    if let Outcome::Evaluated(e) = &r.outcomes[i]
                        && let Some(check) = &e.check
                    {
                        self.check_lines(&mut out, i, check, e.at, style);
                    }
                }
            }
        }
        if !t.unmapped.is_empty() {
            let _ = writeln!(
                out,
                "\nunmapped: {} not in the scenario (showing {})",
                plural(t.unmapped.len(), "record"),
                t.unmapped.len().min(self.args.show)
            );
            for &i in t.unmapped.iter().take(self.args.show) {
                if let Outcome::Unmapped(u) = &r.outcomes[i] {
                    let _ =
                        writeln!(out, "  {}: {}: {}", self.records[i].origin, self.records[i].flow, u.reason);
                }
            }
        }
        if !t.unknown_addresses.is_empty() {
            let _ = writeln!(out, "\nunknown addresses (not in the scenario), records naming them");
            for (ip, n) in &t.unknown_addresses {
                let _ = writeln!(out, "  {:>8}  {ip}", n);
            }
        }
        out
    }

    /// The throughput line, for stderr: it depends on the machine and the thread count, so it
    /// stays out of the (deterministic) report.
    fn throughput(&self) -> String {
        format!(
            "throughput: {} flows in {:.3} s = {} flows/s on {}",
            grouped(self.totals.evaluated as u64),
            self.seconds,
            grouped(self.flows_per_second().round() as u64),
            plural(self.threads, "thread")
        )
    }

    fn json(&self) -> Value {
        let (r, t) = (self.result, self.totals);
        let counts = |c: &crate::replay::VerdictCounts| json!({"allowed": c.allowed, "denied": c.denied});
        let verdicts: serde_json::Map<String, Value> =
            t.verdicts.iter().map(|(d, c)| (direction_name(*d).to_string(), counts(c))).collect();
        let logged: serde_json::Map<String, Value> =
            t.logged.iter().map(|(d, c)| (d.to_string(), counts(c))).collect();
        let rules: Vec<Value> = t
            .rules
            .iter()
            .map(|rc| {
                json!({"nsg": rc.hit.nsg, "direction": rc.hit.direction.to_string(), "rule": rc.hit.rule, "flows": rc.flows})
            })
            .collect();
        let unused: Vec<Value> = t
            .unused
            .iter()
            .map(|u| json!({"nsg": u.nsg, "direction": u.direction.to_string(), "rule": u.rule, "priority": u.priority}))
            .collect();
        let decision = |d: &crate::replay::Decision| json!({"access": d.access.to_string(), "nsg": d.nsg, "rule": d.rule});
        let disagreements: Vec<Value> = t
            .disagreements
            .iter()
            .filter_map(|&i| match &r.outcomes[i] {
                Outcome::Evaluated(e) => e.check.as_ref().map(|c| (i, e, c)),
                _ => None,
            })
            .map(|(i, e, c)| {
                let rec = &self.records[i];
                let mut reference = decision(&c.reference);
                if let Some(obj) = reference.as_object_mut() {
                    obj.insert("logged_rule".into(), c.logged_rule.clone().into());
                }
                json!({
                    "record": rec.origin,
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
        let unmapped: Vec<Value> = t
            .unmapped
            .iter()
            .filter_map(|&i| match &r.outcomes[i] {
                Outcome::Unmapped(u) => {
                    Some(json!({"record": self.records[i].origin, "flow": flow_json(&self.records[i]), "reason": u.reason}))
                }
                _ => None,
            })
            .collect();
        let inputs: Vec<Value> = self
            .inputs
            .iter()
            .map(|i| json!({"file": i.file.display().to_string(), "format": i.format.to_string()}))
            .collect();
        json!({
            "scenario": self.args.scenario.display().to_string(),
            "inputs": inputs,
            "records": self.tuples,
            "flows": self.records.len(),
            "dropped_records": self.dropped,
            "time": {
                "at": format!("+{}", r.at),
                "at_instant": r.start.plus(r.at).to_string(),
                "timeline_end": format!("+{}", r.end),
                "log_start": self.timing.log_start.map(|i| i.to_string()),
            },
            "evaluated": t.evaluated,
            "before_log_start": t.before_start,
            "unmapped_count": t.unmapped.len(),
            "unmapped": unmapped,
            "verdicts": verdicts,
            "azure_verdicts": logged,
            "rules": rules,
            "unused_rules": unused,
            "compared": t.compared,
            "agrees": t.disagreements.is_empty(),
            "disagreement_count": t.disagreements.len(),
            "disagreements": disagreements,
            "unknown_addresses": t
                .unknown_addresses
                .iter()
                .map(|(ip, n)| json!({"address": ip.to_string(), "records": n}))
                .collect::<Vec<_>>(),
        })
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
